"""Where data comes from: Whop (API v1 sync and webhooks), WhatsApp webhooks, and file imports."""
