from infra.pipeline import COMPONENT_TYPE
from tests.infra.harness import COMPONENT_NAME, REPO_ROOT, Deployment


def test_component_uses_the_filetrail_type_token(stack: Deployment) -> None:
    component = stack.one(COMPONENT_TYPE)
    assert (component.type, component.name) == ("filetrail:index:FilePipeline", COMPONENT_NAME)


def test_every_resource_is_parented_to_the_component(stack: Deployment) -> None:
    component_urn = stack.one(COMPONENT_TYPE).urn
    orphans = [
        r.name for r in stack.resources if r.type != COMPONENT_TYPE and r.parent != component_urn
    ]
    assert orphans == []


def test_every_child_is_named_from_the_component(stack: Deployment) -> None:
    children = [r.name for r in stack.resources if r.type != COMPONENT_TYPE]
    assert children
    assert all(name.startswith(f"{COMPONENT_NAME}-") for name in children)


def test_infra_code_reads_no_environment_variables() -> None:
    sources = (REPO_ROOT / "infra").glob("*.py")
    offenders = [
        p.name for p in sources if "os.environ" in p.read_text() or "getenv" in p.read_text()
    ]
    assert offenders == []
