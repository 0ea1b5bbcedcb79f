"""Joining a program: the questionnaire by chat, one question at a time, or as a form."""
