"""The server (`jingzhun serve`): web pages for cadres, supervisors and inspectors and a JSON API,
over the same service functions as the CLI. The only process that holds the database."""
