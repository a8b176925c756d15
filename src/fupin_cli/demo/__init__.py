"""placeholder"""
from fupin_cli.demo.generate import DemoData, build_demo

__all__ = ["DemoData", "build_demo"]
