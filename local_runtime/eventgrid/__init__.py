"""A local stand-in for Azure Event Grid's blob storage events: a proxy in front of Azurite (`proxy`) that
appends Event Grid blob events (`events`) to the runtime's durable event log."""
from local_runtime.eventgrid.events import BLOB_CREATED, BLOB_DELETED, EventBlob, blob_event, classify, event_blob
from local_runtime.eventgrid.proxy import EventGridProxy, serve

__all__ = ["BLOB_CREATED", "BLOB_DELETED", "EventBlob", "EventGridProxy", "blob_event", "classify", "event_blob",
           "serve"]
