"""The dbt project of the marts, installed as the package cdp_resources.dbt_project."""
