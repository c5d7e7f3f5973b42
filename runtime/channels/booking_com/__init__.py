"""Booking.com's Connectivity APIs: reservations polled from OTA_HotelResNotif and
OTA_HotelResModifyNotif (stored, then acknowledged), guest messages from the messaging API into
conversations and replies back, and reservation e-mails recognised by their DKIM signature."""
