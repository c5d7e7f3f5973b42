"""What every channel shares: finding a tenant by its id on a channel (the registry's blind
indexes), the tenant's channel accounts and credentials, the conversation of each customer on
a channel, and the record of what was delivered to them. The providers' own formats live in
`runtime/channels/`."""
