# Attachments (case documents with a checksum), the start permission on definitions, and an
# index for the inbox's scope-path prefix filter.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import workflows.models


class Migration(migrations.Migration):

    dependencies = [
        ('workflows', '0003_alter_auditevent_kind'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='processdefinition',
            options={'ordering': ['key', '-version'], 'permissions': [('start_processdefinition', 'Can start instances of this procedure')], 'verbose_name': 'process definition', 'verbose_name_plural': 'process definitions'},
        ),
        migrations.AlterField(
            model_name='auditevent',
            name='kind',
            field=models.CharField(choices=[('definition_deployed', 'definition deployed'), ('role_granted', 'role granted'), ('instance_started', 'instance started'), ('task_claimed', 'task claimed'), ('task_unclaimed', 'task unclaimed'), ('task_completed', 'task completed'), ('incident_raised', 'incident raised'), ('incident_resolved', 'incident resolved'), ('instance_suspended', 'instance suspended'), ('instance_resumed', 'instance resumed'), ('instance_terminated', 'instance terminated'), ('instance_completed', 'instance completed'), ('timer_fired', 'timer fired'), ('job_completed', 'job completed'), ('job_failed', 'job failed'), ('event_received', 'message or signal received'), ('task_escalated', 'task escalated'), ('document_attached', 'document attached'), ('record_changed', 'record changed'), ('sensitive_viewed', 'sensitive data viewed')], max_length=40),
        ),
        migrations.AddIndex(
            model_name='humantask',
            index=models.Index(fields=['state', 'scope_path'], name='human_task_scope_prefix', opclasses=['varchar_pattern_ops', 'varchar_pattern_ops']),
        ),
        migrations.CreateModel(
            name='Attachment',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file', models.FileField(max_length=200, upload_to=workflows.models.attachment_upload_to, verbose_name='file')),
                ('filename', models.CharField(max_length=255, verbose_name='file name')),
                ('content_type', models.CharField(max_length=100, verbose_name='type')),
                ('size', models.PositiveBigIntegerField(verbose_name='size')),
                ('sha256', models.CharField(max_length=64, verbose_name='SHA-256')),
                ('uploaded_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='uploaded at')),
                ('instance', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='attachments', to='workflows.processinstance')),
                ('task', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='attachments', to='workflows.humantask')),
                ('uploaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'attachment',
                'verbose_name_plural': 'attachments',
                'indexes': [models.Index(fields=['instance', 'uploaded_at'], name='workflows_a_instanc_c83488_idx')],
            },
        ),
    ]
