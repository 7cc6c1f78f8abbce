"""Models of ansinh.complaints (issue 12)."""
