"""Production set-up: start-up checks, the nginx load balancer and a local multi-process cluster."""
