"""Document rendering (PDF forms, forecasts) with QtGui's PDF writer; usable from the CLI with an
offscreen QGuiApplication. See `render.pdf`."""
