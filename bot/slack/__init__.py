"""Slack: slack-bolt over the aiohttp server, Block Kit rendering, and outbox delivery.

The only package that imports slack_bolt / slack_sdk.
"""
