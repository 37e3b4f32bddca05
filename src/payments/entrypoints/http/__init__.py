"""The Falcon WSGI HTTP API of DESIGN §6; ``app.create_app`` builds it around the use cases."""
