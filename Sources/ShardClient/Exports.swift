// The wire types are the client library's types: a program that imports ShardClient sees
// `JSONValue`, `ShardValue`, `IdentityKey`, `ShardError` and `Timestamp` without importing
// ShardProtocol itself.
@_exported import ShardProtocol
