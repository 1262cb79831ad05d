"""Test support: real services (D-Bus + gnome-keyring) started by the tests themselves."""
