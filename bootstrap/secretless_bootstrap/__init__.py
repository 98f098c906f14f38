"""The bootstrap project's modules: config, names, the state backend, the GitHub identities."""
