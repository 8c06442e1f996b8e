"""X (Twitter): archive formats and pure normalizers.

- `normalize`: X API v2 (twarc2 pages, flattened tweets) and the helpers the other normalizers share
- `normalize_v1`: X API v1.1 statuses and users (also the shape of GraphQL `legacy` objects)
- `normalize_graphql`: X web GraphQL responses (UserTweets, UserByScreenName, Following)
- `formats`: the FormatSpec registrations (detection and readers)
"""

PLATFORM = "x"
