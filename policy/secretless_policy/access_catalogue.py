"""The access catalogue's data roles, as the policy pack checks them. Generated from
secretless_aks/components/access_catalogue.py (`policy_module()`); a test keeps the two
equal: edit the catalogue, then regenerate this file."""

# ARM data roles by GUID: the resource types (lower-cased) each may be granted on.
ARM_DATA_ROLES: dict[str, tuple[str, ...]] = {
    "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1": (  # Storage Blob Data Reader
        "microsoft.storage/storageaccounts",
        "microsoft.storage/storageaccounts/blobservices/containers",
    ),
    "ba92f5b4-2d11-453d-a403-e96b0029c9fe": (  # Storage Blob Data Contributor
        "microsoft.storage/storageaccounts",
        "microsoft.storage/storageaccounts/blobservices/containers",
    ),
    "974c5e8b-45b9-4653-ba55-5f855dd0fb88": (  # Storage Queue Data Contributor
        "microsoft.storage/storageaccounts",
        "microsoft.storage/storageaccounts/queueservices/queues",
    ),
    "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": (  # Storage Table Data Contributor
        "microsoft.storage/storageaccounts",
        "microsoft.storage/storageaccounts/tableservices/tables",
    ),
    "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0": (  # Azure Service Bus Data Receiver
        "microsoft.servicebus/namespaces",
        "microsoft.servicebus/namespaces/queues",
        "microsoft.servicebus/namespaces/topics",
        "microsoft.servicebus/namespaces/topics/subscriptions",
    ),
    "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39": (  # Azure Service Bus Data Sender
        "microsoft.servicebus/namespaces",
        "microsoft.servicebus/namespaces/queues",
        "microsoft.servicebus/namespaces/topics",
    ),
    "a638d3c7-ab3a-418d-83e6-5f17a39d4fde": (  # Azure Event Hubs Data Receiver
        "microsoft.eventhub/namespaces",
        "microsoft.eventhub/namespaces/eventhubs",
    ),
    "2b629674-e913-4c01-ae53-ef4638d8f975": (  # Azure Event Hubs Data Sender
        "microsoft.eventhub/namespaces",
        "microsoft.eventhub/namespaces/eventhubs",
    ),
    "516239f1-63e1-4d78-a4de-a74fb236a071": (  # App Configuration Data Reader
        "microsoft.appconfiguration/configurationstores",
    ),
}
# Cosmos DB for NoSQL's built-in data role definitions (sqlRoleDefinitions/<guid>).
COSMOS_DATA_ROLES = frozenset(
    {
        "00000000-0000-0000-0000-000000000001",  # Cosmos DB Built-in Data Reader
        "00000000-0000-0000-0000-000000000002",  # Cosmos DB Built-in Data Contributor
    }
)
