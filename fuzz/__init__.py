"""Coverage-guided fuzz harnesses (atheris) for the capture readers and the dissectors; see run.py."""
