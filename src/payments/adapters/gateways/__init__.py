"""Payment providers behind the PaymentGateway port, one package each, and the circuit breaker."""
