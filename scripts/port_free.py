"""Say plainly when the port `make run` wants is taken, and how to choose another."""
import socket
import sys

port = int(sys.argv[1])
with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
    try:
        probe.bind(("127.0.0.1", port))
    except OSError:
        sys.exit(f"Port {port} is already in use (another program, or ruralinfo already running). "
                 f"Stop it, or choose another port: make run PORT={port + 1}")
