"""CrowdTangle exports and API responses.

CrowdTangle is a *source*, not a platform: Meta's (now closed) monitoring tool that exported Facebook and
Instagram posts. Its formats emit rows with platform 'facebook' or 'instagram' (taken from the data),
never 'crowdtangle', so that they join with data of the same platforms from elsewhere.

- `normalize`: one CSV row or one API post object -> Bundle (pure)
- `formats`: the FormatSpec registrations (search CSV export, post history CSV, API JSON)
"""

SOURCE = "crowdtangle"
