/// A Swift type for the rows of one model of shards.conf.
///
/// Properties are columns, named by their coding keys (use `CodingKeys` for names such as
/// `location_id`); `Int64`/`Int` for `int`, `Double` for `real`, `String` for `text`, `Bool`
/// for `bool`, `Date` for `timestamp`, optionals for nullable columns. A primary key that the
/// daemon makes (`id = "sequence"` or `"shard_local"`) is an optional left nil when adding.
///
/// ```swift
/// struct WeatherLocation: ShardModel {
///     static let modelName = "WeatherLocation"
///     var id: Int64?
///     var continent: String
///     var city: String
/// }
/// ```
public protocol ShardModel: Codable, Sendable {
    /// The model's name in shards.conf.
    static var modelName: String { get }
}
