"""One module per resource; each defines ``router`` (see ``domiland.api.app``)."""
