"""The app's own settings plus one bare JSON view: the floor for the API load benchmark."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
