"""Create the role groups. Their permissions are attached after migrate by accounts.roles.sync_roles,
because permissions only exist once every app has migrated."""

from django.db import migrations

ROLES = [
    "requester",
    "agent",
    "change manager",
    "CAB member",
    "service level manager",
    "service desk manager",
    "administrator",
]


def create_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
