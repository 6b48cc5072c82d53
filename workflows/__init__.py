"""Case kinds: their definitions (config/workflows/*.yaml) and their policy rules in Python."""
from . import household

RULES = {"household": household.RULES}
