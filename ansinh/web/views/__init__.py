"""Staff UI views, one module per domain. Each view: parse, authorise, call one service or
query, render. Every object lookup goes through a queryset scoped to the user's areas."""
