/// The weather example of config.md, compiled in so that `swift run shardd` works even where
/// no `./shards.conf` exists. Kept identical to the repository's `shards.conf` (a test checks).
package enum DefaultConfiguration {
    package static let text = """
        [server]
        socket = "shardd.sock"
        state_dir = "data"
        
        [shards.north_america]
        url = "sqlite:data/north_america.db"
        [shards.asia]
        url = "sqlite:data/asia.db"
        [shards.europe]
        url = "sqlite:data/europe.db"
        [shards.south_america]
        url = "sqlite:data/south_america.db"
        
        [models.WeatherLocation]
        table = "weather_locations"
        id = "sequence"
        shard_by = { column = "continent", map = { "North America" = "north_america", "Asia" = "asia", "Europe" = "europe", "South America" = "south_america" } }
        [models.WeatherLocation.columns]
        id = "int"
        continent = { type = "text", nullable = false }
        city = { type = "text", nullable = false }
        [models.WeatherLocation.relationships.reports]
        model = "Report"
        foreign_key = "location_id"
        
        [models.Report]
        table = "weather_reports"
        id = "shard_local"
        shard_by = { parent = "WeatherLocation", via = "location_id" }
        [models.Report.columns]
        id = "int"
        location_id = { type = "int", nullable = false, index = true }
        temperature = "real"
        report_time = "timestamp"
        [models.Report.relationships.location]
        model = "WeatherLocation"
        foreign_key = "location_id"
        """
}
