"""Models of ansinh.applications (issue 12)."""
