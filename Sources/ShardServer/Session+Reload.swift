import ShardCore
import ShardProtocol

extension Session {
    /// `reload` (protocol.md 9, 14): `version` and `changed`, or `bad_config` with `errors`.
    func reload() async throws -> JSONObject {
        switch await context.reload(trigger: "reload op") {
        case .applied(let version, let changed):
            return JSONObject([("version", .int(Int64(version))), ("changed", .array(changed.map(JSONValue.string)))])
        case .refused(let version, let errors):
            throw ShardError(.badConfig, "shards.conf was not applied (configuration version \(version) kept): \(errors.joined(separator: "; "))",
                             details: [("errors", .array(errors.map(JSONValue.string))), ("version", .int(Int64(version)))])
        }
    }

    /// `config` (an extension, docs/protocol.md): the running configuration with its version,
    /// passwords redacted, each setting marked live (a reload applies it) or restart-only.
    func runningConfiguration() -> JSONObject {
        let running = context.routed
        return JSONObject([
            ("version", .int(Int64(running.version))), ("file", .string(context.source.description)),
            ("settings", .array(ConfigListing(running.configured).settings.map { setting in
                .object(JSONObject([("key", .string(setting.key)), ("value", .string(setting.value)),
                                    ("reload", .string(setting.reload.rawValue))]))
            })),
        ])
    }
}
