-- The tables svcctl reads and writes, with the columns and types of Cinder 29.0.0's schema
-- (../shared/fixtures). For svcctl's demo and test databases only: svcctl never runs these
-- against a database it did not create.

CREATE TABLE clusters (
	created_at DATETIME,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN,
	id INTEGER NOT NULL,
	name VARCHAR(255) NOT NULL,
	binary VARCHAR(255) NOT NULL,
	disabled BOOLEAN,
	disabled_reason VARCHAR(255),
	race_preventer INTEGER NOT NULL,
	replication_status VARCHAR(36),
	active_backend_id VARCHAR(255),
	frozen BOOLEAN DEFAULT 0 NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (name, binary, race_preventer)
);

CREATE TABLE services (
	created_at DATETIME,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN,
	id INTEGER NOT NULL,
	host VARCHAR(255),
	binary VARCHAR(255),
	topic VARCHAR(255),
	report_count INTEGER NOT NULL,
	disabled BOOLEAN,
	availability_zone VARCHAR(255),
	disabled_reason VARCHAR(255),
	modified_at DATETIME,
	rpc_current_version VARCHAR(36),
	object_current_version VARCHAR(36),
	replication_status VARCHAR(36),
	frozen BOOLEAN,
	active_backend_id VARCHAR(255),
	cluster_name VARCHAR(255),
	uuid VARCHAR(36),
	PRIMARY KEY (id)
);

CREATE UNIQUE INDEX services_uuid_idx ON services (uuid);

CREATE TABLE consistencygroups (
	created_at DATETIME,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN,
	id VARCHAR(36) NOT NULL,
	user_id VARCHAR(255),
	project_id VARCHAR(255),
	host VARCHAR(255),
	availability_zone VARCHAR(255),
	name VARCHAR(255),
	description VARCHAR(255),
	volume_type_id VARCHAR(255),
	status VARCHAR(255),
	cgsnapshot_id VARCHAR(36),
	source_cgid VARCHAR(36),
	cluster_name VARCHAR(255),
	PRIMARY KEY (id),
	CHECK (deleted IN (0, 1))
);

CREATE TABLE groups (
	created_at DATETIME,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN,
	id VARCHAR(36) NOT NULL,
	user_id VARCHAR(255),
	project_id VARCHAR(255),
	cluster_name VARCHAR(255),
	host VARCHAR(255),
	availability_zone VARCHAR(255),
	name VARCHAR(255),
	description VARCHAR(255),
	group_type_id VARCHAR(36),
	status VARCHAR(255),
	group_snapshot_id VARCHAR(36),
	source_group_id VARCHAR(36),
	replication_status VARCHAR(255),
	PRIMARY KEY (id)
);

CREATE INDEX groups_deleted_project_id_idx ON groups (deleted, project_id);

CREATE TABLE volumes (
	created_at DATETIME,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN,
	id VARCHAR(36) NOT NULL,
	ec2_id VARCHAR(255),
	user_id VARCHAR(255),
	project_id VARCHAR(255),
	host VARCHAR(255),
	size INTEGER,
	availability_zone VARCHAR(255),
	status VARCHAR(255),
	attach_status VARCHAR(255),
	scheduled_at DATETIME,
	launched_at DATETIME,
	terminated_at DATETIME,
	display_name VARCHAR(255),
	display_description VARCHAR(255),
	provider_location VARCHAR(256),
	provider_auth VARCHAR(256),
	snapshot_id VARCHAR(36),
	volume_type_id VARCHAR(36) NOT NULL,
	source_volid VARCHAR(36),
	bootable BOOLEAN,
	provider_geometry VARCHAR(255),
	_name_id VARCHAR(36),
	encryption_key_id VARCHAR(36),
	migration_status VARCHAR(255),
	replication_status VARCHAR(255),
	replication_extended_status VARCHAR(255),
	replication_driver_data VARCHAR(255),
	consistencygroup_id VARCHAR(36),
	provider_id VARCHAR(255),
	multiattach BOOLEAN,
	previous_status VARCHAR(255),
	cluster_name VARCHAR(255),
	group_id VARCHAR(36),
	service_uuid VARCHAR(36),
	shared_targets BOOLEAN,
	use_quota BOOLEAN DEFAULT 1 NOT NULL,
	PRIMARY KEY (id),
	FOREIGN KEY(group_id) REFERENCES groups (id),
	FOREIGN KEY(service_uuid) REFERENCES services (uuid),
	FOREIGN KEY(consistencygroup_id) REFERENCES consistencygroups (id)
);

CREATE INDEX ix_volumes_consistencygroup_id ON volumes (consistencygroup_id);

CREATE INDEX ix_volumes_group_id ON volumes (group_id);

CREATE INDEX volumes_deleted_host_idx ON volumes (deleted, host);

CREATE INDEX volumes_deleted_project_id_idx ON volumes (deleted, project_id);

CREATE INDEX volumes_service_uuid_idx ON volumes (service_uuid, deleted);

CREATE TABLE snapshots (
	created_at DATETIME,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN,
	id VARCHAR(36) NOT NULL,
	volume_id VARCHAR(36) NOT NULL,
	user_id VARCHAR(255),
	project_id VARCHAR(255),
	status VARCHAR(255),
	progress VARCHAR(255),
	volume_size INTEGER,
	scheduled_at DATETIME,
	display_name VARCHAR(255),
	display_description VARCHAR(255),
	provider_location VARCHAR(255),
	encryption_key_id VARCHAR(36),
	volume_type_id VARCHAR(36) NOT NULL,
	cgsnapshot_id VARCHAR(36),
	provider_id VARCHAR(255),
	provider_auth VARCHAR(255),
	group_snapshot_id VARCHAR(36),
	use_quota BOOLEAN DEFAULT 1 NOT NULL,
	PRIMARY KEY (id),
	CONSTRAINT snapshots_volume_id_fkey FOREIGN KEY(volume_id) REFERENCES volumes (id)
);

CREATE INDEX ix_snapshots_cgsnapshot_id ON snapshots (cgsnapshot_id);

CREATE INDEX ix_snapshots_group_snapshot_id ON snapshots (group_snapshot_id);

CREATE INDEX ix_snapshots_volume_id ON snapshots (volume_id);

CREATE INDEX snapshots_deleted_project_id_idx ON snapshots (deleted, project_id);

CREATE TABLE backups (
	created_at DATETIME,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN,
	id VARCHAR(36) NOT NULL,
	volume_id VARCHAR(36) NOT NULL,
	user_id VARCHAR(255),
	project_id VARCHAR(255),
	host VARCHAR(255),
	availability_zone VARCHAR(255),
	display_name VARCHAR(255),
	display_description VARCHAR(255),
	container VARCHAR(255),
	status VARCHAR(255),
	fail_reason VARCHAR(255),
	service_metadata VARCHAR(255),
	service VARCHAR(255),
	size INTEGER,
	object_count INTEGER,
	parent_id VARCHAR(36),
	temp_volume_id VARCHAR(36),
	temp_snapshot_id VARCHAR(36),
	num_dependent_backups INTEGER,
	snapshot_id VARCHAR(36),
	data_timestamp DATETIME,
	restore_volume_id VARCHAR(36),
	encryption_key_id VARCHAR(36),
	PRIMARY KEY (id),
	CHECK (deleted IN (0, 1))
);

CREATE INDEX backups_deleted_project_id_idx ON backups (deleted, project_id);

CREATE TABLE workers (
	created_at DATETIME,
	updated_at DATETIME,
	deleted_at DATETIME,
	deleted BOOLEAN,
	id INTEGER NOT NULL,
	resource_type VARCHAR(40) NOT NULL,
	resource_id VARCHAR(36) NOT NULL,
	status VARCHAR(255) NOT NULL,
	service_id INTEGER,
	race_preventer INTEGER DEFAULT 0 NOT NULL,
	PRIMARY KEY (id),
	UNIQUE (resource_type, resource_id),
	FOREIGN KEY(service_id) REFERENCES services (id)
);

CREATE INDEX ix_workers_service_id ON workers (service_id);

CREATE TABLE image_volume_cache_entries (
	image_updated_at DATETIME,
	id INTEGER NOT NULL,
	host VARCHAR(255) NOT NULL,
	image_id VARCHAR(36) NOT NULL,
	volume_id VARCHAR(36) NOT NULL,
	size INTEGER NOT NULL,
	last_used DATETIME NOT NULL,
	cluster_name VARCHAR(255),
	PRIMARY KEY (id)
);

CREATE INDEX ix_image_volume_cache_entries_host ON image_volume_cache_entries (host);

CREATE INDEX ix_image_volume_cache_entries_image_id ON image_volume_cache_entries (image_id);
