"""The example segments, installed as cdp_resources.segments: a workspace's segments
folder starts as a copy of them (cdp.config.segments_folder)."""
