"""Notifications: usagers, bookings and the SMS and e-mail that tell them where and when to come."""
