"""`field__any_of=[...]`: `field IN (...)` with the values as one array on PostgreSQL.

Django's `__in` compiles one placeholder per value, and resolves each one as an expression: an
import's lookups of 10,000 emails, APTs and MACs spend a few hundred milliseconds there alone.
`= ANY(%s)` takes the list as one parameter (psycopg2 sends it as an array). Other databases get
the ordinary `IN`. Registered on every field and relation by `SmartplusConfig.ready`.

A long list is joined instead (`IN (SELECT unnest(%s))`): where PostgreSQL filters rows with
`= ANY(array)` rather than looking them up in an index (a seq scan, or any plan chosen on the
stale estimates that follow a bulk insert in the same transaction) it compares every row with
every value in turn, and 25,000 rows against 1,000 ids took 100 ms; the join hashes the values
(9 ms).
"""

from django.db.models import Field, ForeignObject, Lookup
from django.db.models.lookups import In

# From this many values on, the values are joined rather than compared one by one.
JOINED_FROM = 64


class AnyOf(Lookup):
    lookup_name = "any_of"
    prepare_rhs = False

    def get_prep_lookup(self):
        field = self.lhs.output_field
        return [field.get_prep_value(value) for value in self.rhs]

    def as_postgresql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        if len(values) >= JOINED_FROM:
            return f"{lhs} IN (SELECT unnest(%s))", [*params, values]
        return f"{lhs} = ANY(%s)", [*params, values]

    def as_sql(self, compiler, connection):
        if not self.rhs:  # what `__in=[]` does: no row, no query
            from django.core.exceptions import EmptyResultSet

            raise EmptyResultSet
        return In(self.lhs, self.rhs).as_sql(compiler, connection)


def register() -> None:
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(AnyOf)  # relations look only at their own class's lookups
