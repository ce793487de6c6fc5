"""Views of intercom devices (`intercoms`) and third-party cameras (`cameras`)."""
