"""The example journeys, installed as cdp_resources.journeys: a workspace's journeys folder
starts as a copy of them (cdp.config.journeys_folder)."""
