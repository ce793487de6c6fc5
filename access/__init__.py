"""PIN codes and RF cards of residents, delivered to the door devices that they open."""
