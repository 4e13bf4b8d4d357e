"""Shopify webhooks: the signed receiver, subscription, the event log and live updates."""
