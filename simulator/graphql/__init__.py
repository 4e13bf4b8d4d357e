"""The GraphQL Admin API of the simulator: schema, execution, connections, search, bulk."""
