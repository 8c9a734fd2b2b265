"""Activation: getting audiences out of the CDP and into the ad platforms.

``cdp.activation.dmp`` writes audience files in each platform's exact upload format (Tencent Ads,
Ocean Engine, Google Customer Match, Meta custom audiences).
"""
