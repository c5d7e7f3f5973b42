"""SMS and voice calls through Twilio, with its official library (signatures, TwiML, REST)."""
