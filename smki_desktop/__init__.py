"""SMKI Desktop: the workstation application for GB smart-metering SMKI officers."""

__version__ = "0.1.0"
