"""Models of ansinh.lookup (issue 12)."""
