"""Microsoft Teams: botbuilder's CloudAdapter behind ``POST /api/messages``, Adaptive Cards,
proactive delivery and the app package.

The only package that imports botbuilder / botframework.
"""
