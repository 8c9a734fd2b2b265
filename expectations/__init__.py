"""The quality gates' expectation suites, installed as cdp_resources.expectations."""
