"""A2A: remote agents' cards (the client side so far); the server and task mapping come with A2A support."""

from protocols.a2a.cards import CardError, card_url, fetch_card

__all__ = ["CardError", "card_url", "fetch_card"]
