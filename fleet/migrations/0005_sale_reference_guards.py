"""Set-based reference guards for fleet_sale.

Per-row foreign-key triggers cost more than the rest of a bulk insert, so fleet_sale has no FOREIGN KEY
constraints. The database still guards its references: statement-level triggers check every inserted or
updated batch with one anti-join over the transition table, and deleting a device, product or DEX read
that has sales is refused (PROTECT); deleting a customer detaches its sales (SET NULL).
"""

from django.db import migrations

GUARDS = """
CREATE FUNCTION fleet_sale_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan record;
BEGIN
    SELECT n.external_id, n.device_id, n.product_id, n.customer_id, n.dex_read_id,
           d.id IS NULL AS no_device, p.id IS NULL AS no_product,
           (n.customer_id IS NOT NULL AND c.id IS NULL) AS no_customer,
           (n.dex_read_id IS NOT NULL AND r.id IS NULL) AS no_dex_read
      INTO orphan
      FROM new_rows n
      LEFT JOIN fleet_device d ON d.id = n.device_id
      LEFT JOIN fleet_product p ON p.id = n.product_id
      LEFT JOIN fleet_customer c ON c.id = n.customer_id
      LEFT JOIN fleet_dexread r ON r.id = n.dex_read_id
     WHERE d.id IS NULL OR p.id IS NULL
        OR (n.customer_id IS NOT NULL AND c.id IS NULL)
        OR (n.dex_read_id IS NOT NULL AND r.id IS NULL)
     LIMIT 1;
    IF FOUND THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            'sale %s references a missing %s', orphan.external_id,
            CASE WHEN orphan.no_device THEN 'device ' || orphan.device_id
                 WHEN orphan.no_product THEN 'product ' || orphan.product_id
                 WHEN orphan.no_customer THEN 'customer ' || orphan.customer_id
                 ELSE 'DEX read ' || orphan.dex_read_id END);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER fleet_sale_references_on_insert AFTER INSERT ON fleet_sale
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_sale_check_references();
CREATE TRIGGER fleet_sale_references_on_update AFTER UPDATE ON fleet_sale
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_sale_check_references();

CREATE FUNCTION fleet_sale_protect_referenced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    column_name text := TG_ARGV[0];
    referenced bigint;
BEGIN
    EXECUTE format('SELECT o.id FROM old_rows o WHERE EXISTS (SELECT 1 FROM fleet_sale s WHERE s.%I = o.id) LIMIT 1',
                   column_name) INTO referenced;
    IF referenced IS NOT NULL THEN
        RAISE foreign_key_violation USING MESSAGE = format(
            '%s %s still has sales; retire it instead of deleting it', TG_TABLE_NAME, referenced);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER fleet_device_protect_sales AFTER DELETE ON fleet_device
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_sale_protect_referenced('device_id');
CREATE TRIGGER fleet_product_protect_sales AFTER DELETE ON fleet_product
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_sale_protect_referenced('product_id');
CREATE TRIGGER fleet_dexread_protect_sales AFTER DELETE ON fleet_dexread
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_sale_protect_referenced('dex_read_id');

CREATE FUNCTION fleet_sale_detach_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE fleet_sale s SET customer_id = NULL FROM old_rows o WHERE s.customer_id = o.id;
    RETURN NULL;
END $$;

CREATE TRIGGER fleet_customer_detach_sales AFTER DELETE ON fleet_customer
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION fleet_sale_detach_customer();
"""

DROP_GUARDS = """
DROP TRIGGER IF EXISTS fleet_customer_detach_sales ON fleet_customer;
DROP TRIGGER IF EXISTS fleet_dexread_protect_sales ON fleet_dexread;
DROP TRIGGER IF EXISTS fleet_product_protect_sales ON fleet_product;
DROP TRIGGER IF EXISTS fleet_device_protect_sales ON fleet_device;
DROP TRIGGER IF EXISTS fleet_sale_references_on_update ON fleet_sale;
DROP TRIGGER IF EXISTS fleet_sale_references_on_insert ON fleet_sale;
DROP FUNCTION IF EXISTS fleet_sale_detach_customer();
DROP FUNCTION IF EXISTS fleet_sale_protect_referenced();
DROP FUNCTION IF EXISTS fleet_sale_check_references();
"""


class Migration(migrations.Migration):
    dependencies = [("fleet", "0004_sale_customer_index_partial")]
    operations = [migrations.RunSQL(GUARDS, DROP_GUARDS)]
