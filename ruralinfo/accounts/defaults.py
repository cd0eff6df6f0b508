"""The interest groups a new installation starts with (administrators edit the list)."""

DEFAULT_GROUPS = [
    ("葡萄", "Grapes"), ("茶叶", "Tea"), ("生猪", "Pigs"), ("粮油", "Grain and oil crops"),
    ("蔬菜", "Vegetables"), ("水果", "Fruit"), ("畜禽", "Livestock and poultry"), ("水产", "Aquaculture"),
    ("桑蚕", "Mulberry and silkworms"), ("花卉苗木", "Flowers and seedlings"), ("杨梅", "Bayberries"),
    ("西瓜", "Watermelons"),
]
