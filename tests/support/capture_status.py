"""What FrameIngest reports of each capture (IngestRegistry.status), as tests expect it."""

STATUS_FIELDS = {
    "source",
    "state",
    "detail",
    "fps",
    "frames_decoded",
    "loops",
    "display_delay_s",
    "display_buffer_bytes",
    "window_frames",
    "capture_cpu_s",
}
