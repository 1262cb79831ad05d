"""One small controller per user action on the big pages."""
