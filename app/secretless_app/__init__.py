"""The application side of secretless-aks: settings read from Key Vault, no secret anywhere."""
