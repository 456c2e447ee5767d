"""convoywatch: a Telegram channel monitor for attacks on convoys."""

__version__ = "0.1.0"
