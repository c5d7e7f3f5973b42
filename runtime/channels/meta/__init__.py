"""WhatsApp Business Cloud API, Messenger and Instagram Direct, all through Meta's Graph API."""
